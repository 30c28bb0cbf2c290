"""Z705 (TTI/WUT container information grid): see `_tti`."""

from ._tti import grid_parser

FAMILY = "z705"
PAGES = {"search_container": grid_parser(FAMILY)}
