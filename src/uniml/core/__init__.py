"""Core contracts: the Adapter base class, tasks and data contracts, schema, explanations, persistence, catalog."""
