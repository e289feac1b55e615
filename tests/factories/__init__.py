"""One set of builders for the tests and the benchmarks.

- ``rows``: one row at a time (an organisation, a core group, its members, a session, answers,
  agreed positions, actions, ledger rows), added inside an open write transaction so they
  compose; plus the people most tests use (Rita facilitates, Sam and Hana are members).
- ``scenarios``: whole situations built from those rows (an organisation with one core group,
  a session under way, a closed session with everything its record shows).
- ``ledger``: what the scheduler planned and the ledger holds, read back for assertions.
- ``console``: the same situations reached the way people reach them, through the console
  platform (set up, answer every question, close), and what the console showed.
- ``databases``: throwaway PostgreSQL databases.

Test modules import from here (or use conftest fixtures), never from each other.
"""
