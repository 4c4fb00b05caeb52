"""Municipal comment rounds (høring): rounds, remarks, responses, locking and the
per-municipality workbooks. Plain functions over a session; the caller commits."""
