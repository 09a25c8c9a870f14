//! Reports: one model, renderers (text, JSON, SARIF, GitHub) that only read it.
