"""Bake-time setup and sample data. Standard library only: the cookiecutter hook runs it before any install."""
