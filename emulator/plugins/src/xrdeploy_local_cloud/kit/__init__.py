"""The service kit: what every service we emulate shares, so each is written one way.

:mod:`.dispatch` builds a service from its handlers, ``(state, request) -> response``, and
answers the operations we have not built as not implemented; :mod:`.errors` is the one error
type (AWS's code, message and HTTP status); :mod:`.paging` pages list answers with
``nextToken``; :mod:`.tags` turns tag lists into dicts and back; :mod:`.roles` checks that a
service may assume a role; :mod:`.events` sends state-change events to EventBridge in order.
"""
