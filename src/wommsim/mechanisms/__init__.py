"""The model's rules, one module per mechanism, each a set of vectorised functions.

Every function takes the consumer arrays, its parameters and its own random stream, and
updates the arrays in place; none loops over consumers in Python. The order in which the
model calls them is documented in :meth:`wommsim.model.WommModel.step`.
"""
