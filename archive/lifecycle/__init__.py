"""The end of a contact: the expiry sweep, the deletion steps it shares with erasure, and erasure.

It sits above retention (the policy), holds and privacy, and consults them inside the
transactions that delete; none of them imports it.
"""
