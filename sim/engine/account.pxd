# Read by Cython only (setup.py; pure Python ignores it). The account as a typed extension
# class: the same attributes as Borrower.__slots__ in account.py (tests/test_accel.py checks
# the two agree), read as C struct fields by the compiled modules that declare their account
# variables as Borrower (cython.locals). first_due as a C function the account loop calls
# without a Python call.

cpdef Py_ssize_t first_due(list due) except -1


cdef class Borrower:
    cdef public object bid, seg, seg_name, entered, willingness, ability
    cdef public object p_sms, p_robot, p_agent, p_new, rs_pay, rs_call
    cdef public object rs_msg, rs_life, rs_contact, rs_platform, rs_plan, rs_agent, rs_talk
    cdef public object agenda, hold, listed, dialling, principal0, principal
    cdef public object fees, fees_charged, paid, accrued_to, late_fee_due, fees_frozen
    cdef public object next_boundary, months, in_shock, shock_end, dark, willingness_mult
    cdef public object excess, excess_t, recent, recent_t, last_contact, consec_unanswered
    cdef public object rotated, call_day, attempts_today, unanswered_today, connected_today, last_call
    cdef public object last_conversation, week, ec_state, ec_queue, lost_state, in_plan
    cdef public object plan_left, plan_amount, n_plans, agency, call_tod, pending
    cdef public object measure_step, lit_state, last_touch, plan_kind, promise, paused_to
    cdef public object follow_up, state, resolved, stages
    cdef public object ec_day, n_sms, n_push, n_robot, n_agent, n_agency
    cdef public object n_answered, n_tp_contacts, n_tp_disclosures, n_contact_calls, n_complaints, n_abandoned
    cdef public object cost, n_promises, n_kept, n_broken, promised, paid_promised
    cdef public object n_grace, n_waivers, waived, extra
