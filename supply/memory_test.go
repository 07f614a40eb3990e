package supply

import "testing"

func TestMemoryContract(t *testing.T) {
	runContract(t, func(t *testing.T) Index {
		ix, err := NewMemory()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ix.Close() })
		return ix
	})
}
