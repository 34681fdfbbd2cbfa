"""Op families. Each module registers its op types (shape inference, gradient and generic
`xp` kernel side by side) and defines the TF 1.x functions that build them."""
