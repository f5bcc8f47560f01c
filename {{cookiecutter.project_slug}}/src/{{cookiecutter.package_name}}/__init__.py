"""The project's package: the pipeline stages and the tools around them (see docs/design.md, "Layout")."""
