"""The matcher's reference list (NAICS 2017 index phrases); see LICENCES.md."""
