# Read by Cython only (setup.py; pure Python ignores it): the account as the typed class
# of account.pxd, for the cython.locals declarations of this module.
from sim.engine.account cimport Borrower
