"""Test and benchmark helpers: peer differential-algebra libraries behind one interface."""
