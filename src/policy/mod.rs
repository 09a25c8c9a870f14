//! Policy: identity rules, pins and exclusions, and the publishing-history engine; pure.
