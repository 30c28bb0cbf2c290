"""PortTruckPass on the eModal datahub: see `_emodal`."""

from ._emodal import access_list_parser

FAMILY = "ptp"
PAGES = {"container": access_list_parser(FAMILY)}
