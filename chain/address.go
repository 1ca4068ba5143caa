package chain

// Short abbreviates an address for logs and tables.
func (a Address) Short() string { return short(string(a)) }
