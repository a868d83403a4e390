package evidence

// Marshalled exposes marshalled to the tests.
func (r Record) Marshalled() ([]byte, error) { return r.marshalled() }
