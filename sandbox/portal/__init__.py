"""The sandbox legacy terminal portal: an ASP.NET-style site on loopback for bots to fight.

    from sandbox.portal import PortalOptions, start_portal

    with start_portal(PortalOptions(accounts={"ops": "s3cret"}, latency=0.2)) as portal:
        portal.url            # http://127.0.0.1:PORT/
        portal.configure(error_every=5, layout="v2")   # knobs, live
        portal.clock.advance(timedelta(hours=6))       # the world moves on

Standalone: `python -m sandbox.portal --port 8765 --seed 7 --secrets-file var/secrets.yaml`.

Pages (English at `/`, Chinese in GBK at `/zh/`): Login.aspx → Default.aspx (frameset: frames
"menu" and "main") → Search.aspx (textarea txtContainers, btnSearch, btnExport, grid gvResults
paged by `__doPostBack('gvResults','Page$N')`), ContainerDetail.aspx?cntr=N, VesselSchedule.aspx,
Captcha.aspx, Logout.aspx. Admin JSON under /_sandbox/ (see sandbox.portal.admin).
Modules: options (knobs), sessions (cookies + view state), accounts, chaos (hostile world and
counters), labels/views/render + templates/ (pages), export (xlsx), routes, admin, app, server.
The sandbox imports nothing of quaysync's.
"""

from sandbox.portal.options import KNOBS, PortalOptions
from sandbox.portal.server import RunningPortal, start_portal

__all__ = ["KNOBS", "PortalOptions", "RunningPortal", "start_portal"]
