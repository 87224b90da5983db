"""What the tests share: builders of test data, helpers and the parts of the world they stand up.

Test modules and conftests import from here; nothing here imports a test module or a conftest
(tests/test_layout.py), and conftests hold only fixtures.
"""
