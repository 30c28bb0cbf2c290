"""Z952 (TTI/WUT container information grid, with an "Appt Time" column): see `_tti`."""

from ._tti import grid_parser

FAMILY = "z952"
PAGES = {"search_container": grid_parser(FAMILY)}
