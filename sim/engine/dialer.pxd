# Read by Cython only (setup.py; pure Python ignores it): the dialer as a typed extension
# class, its attributes those Dialer.__init__ sets (a missing one fails at once, compiled), and
# the account as the typed class of account.pxd for this module's cython.locals declarations.
from sim.engine.account cimport Borrower


cdef class Dialer:
    cdef public object model, env, team, slot, horizon, predictive, pacing, answer, ring, cap
    cdef public object key, _codes, _days, _latest_first, rekey, open, close, joining
    cdef public object joining_at, listed, entries, follow_ups, waking, woken_through, seq, carry
    cdef public object wake_at, _generation, agent, dialled, day, closed_day
    cdef public object answered_today, abandoned_today, dialled_by_day, backlog_by_day
    cdef public object cut_by_day
