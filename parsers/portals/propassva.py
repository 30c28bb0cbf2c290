"""ProPass VA (Port of Virginia) on the eModal datahub: see `_emodal`."""

from ._emodal import access_list_parser

FAMILY = "propassva"
PAGES = {"container": access_list_parser(FAMILY)}
