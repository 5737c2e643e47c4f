"""Labels for a batch's units: templates from settings, rendering from the database, print jobs and their runner."""
