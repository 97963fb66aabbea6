"""The review desk: a web page over the archive, served by ``monitor web``.

Server-rendered Jinja pages (text escaped, ``dir="auto"``), plain JavaScript files of this
package under a strict Content-Security-Policy, sessions in signed HttpOnly SameSite cookies.
The app reads and writes through ``storage`` like the CLI does; it never imports the collector
or the scheduler. Build it with :func:`monitor.web.app.create_app`.
"""

from __future__ import annotations

__all__: list[str] = []
