"""HTTP API of the actions service: one router per aggregate (cases with their deadline
settings, actions, meetings, KPIs), what they share in ``common`` and the error mapping in
``errors``.

Every route needs a bearer token (boucle_runtime.auth) and checks it against the network in
the path, then against the site of what it reads or writes; the repositories filter every
query by network as well. 401: no valid token; 403: a valid token without the right;
404: nothing of that id in this network; 409: a stale revision, a refused transition or a
``request_id`` already used for another site.
"""
