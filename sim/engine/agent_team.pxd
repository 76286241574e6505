# Read by Cython only (setup.py; pure Python ignores it): the team as a typed extension class,
# its attributes those AgentTeam.__init__ sets.

cdef class AgentTeam:
    cdef public object head_count, shift, _start, _length, _end, _weekend, _free, record, calls
