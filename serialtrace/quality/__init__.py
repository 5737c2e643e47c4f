"""Quality: claim rates per batch and component lot for the dashboard (holds, recalls and 8D come later)."""
