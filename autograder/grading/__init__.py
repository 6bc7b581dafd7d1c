"""The engine: hidden checks, their registry and cases, verdicts, and the one output layer.

Nothing here imports a platform, and nothing here runs student code: values arrive from
``autograder.sandbox`` as plain data.
"""
