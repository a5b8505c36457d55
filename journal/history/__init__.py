"""The journal's past: replay as of any moment, projection snapshots, retention and
export/import, all streamed from the store."""
