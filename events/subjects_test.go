package events

import "testing"

func TestSubjects(t *testing.T) {
	tests := []struct {
		prefix string
		want   string // Tx() subject; "" = prefix rejected
	}{
		{"", "pycotr.tx"},
		{"pycotr", "pycotr.tx"},
		{"net-a", "net-a.tx"},
		{"lab.room1", "lab.room1.tx"},
		{"a.*", ""},
		{">", ""},
		{"a..b", ""},
		{".a", ""},
		{"a.", ""},
		{"has space", ""},
		{"tab\tx", ""},
		{"new\nline", ""},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			s, err := NewSubjects(tt.prefix)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("prefix %q accepted", tt.prefix)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.Tx(); got != tt.want {
				t.Errorf("Tx() = %q, want %q", got, tt.want)
			}
		})
	}

	s, err := NewSubjects("lab")
	if err != nil {
		t.Fatal(err)
	}
	for got, want := range map[string]string{
		s.Tx():                "lab.tx",
		s.Txs():               "lab.txs",
		s.Block():             "lab.block",
		s.Presence():          "lab.presence",
		s.Consensus():         "lab.consensus",
		s.NodeGroup("n1"):     "lab.node.n1",
		s.NodeBlocks("n1"):    "lab.node.n1.blocks",
		s.NodeInfo("n1"):      "lab.node.n1.info",
		s.NodeInv("n1"):       "lab.node.n1.inv",
		s.NodeTxs("n1"):       "lab.node.n1.txs",
		s.All():               "lab.>",
		Subjects{}.Prefix:     "",
		DefaultPrefix + ".tx": "pycotr.tx",
	} {
		if got != want {
			t.Errorf("subject %q, want %q", got, want)
		}
	}
}

func TestValidNodeID(t *testing.T) {
	for id, want := range map[string]bool{
		"6f1c2c1e-3b7a-4c57-9b59-0e5f0b3f3a11": true,
		"node1":                                true,
		"":                                     false,
		"a.b":                                  false,
		"*":                                    false,
		">":                                    false,
		"a b":                                  false,
		"é":                                    false,
		string(make([]byte, 65)):               false,
	} {
		if got := ValidNodeID(id); got != want {
			t.Errorf("ValidNodeID(%q) = %v, want %v", id, got, want)
		}
	}
}
