"""Thin adapters over the one engine, one per place a class is taught. Each turns a platform's
layout into a call of ``grading.engine.grade`` and renders the Result with ``grading.report``."""
