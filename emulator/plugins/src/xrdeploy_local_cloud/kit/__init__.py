"""The service kit: what every service we emulate shares, so each is written one way.

:mod:`.errors` is the one error type (AWS's code, message and HTTP status); :mod:`.paging` pages
list answers with ``nextToken``; :mod:`.tags` turns tag lists into dicts and back;
:mod:`.roles` checks that a service may assume a role; :mod:`.events` sends state-change events
to EventBridge in order.
"""
