//! Inventory: lockfiles and node_modules → exact packages (name, version, integrity, origin).
