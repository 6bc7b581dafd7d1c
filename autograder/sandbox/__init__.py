"""Where student code runs: read the submission as text, run it in a limited child process, and
bring back plain data only. Everything inside the child belongs to the student."""
