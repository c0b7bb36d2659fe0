"""Backups of the app database: checksummed files with a manifest, verified by restoring them.

``service.BackupService`` is the entry point (create, list, verify, restore, prune, the
scheduled run); ``retention`` and ``schedule`` are the pure policies; ``sqlite_backup`` and
``postgres_backup`` are the edges behind ``backend.DatabaseBackend``.
"""
