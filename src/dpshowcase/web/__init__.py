"""The local web app (``dpshowcase serve``): a thin adapter over the library.

Pages and a JSON API for the five steps of a release — data, protect & synthesize,
evaluate, navigate, download — served on the loopback interface only, to the person
who started it (an access token on every request; an owner-only data folder). Every
piece of work is a library call (:mod:`dpshowcase.release.pipeline`,
:mod:`dpshowcase.release.explore`, :mod:`dpshowcase.aggregate.linkability`, ...); this
package adds state (SQLite), background jobs, and the defences a browser-facing
server needs (:mod:`.security`, :mod:`.datafolder`).
"""
