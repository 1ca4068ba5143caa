package chain

// Params are a network's consensus parameters, read from its genesis file.
// Every node of a network must use the same ones.
type Params struct {
	Network         string `json:"network"`
	Reward          int64  `json:"reward"`            // block subsidy paid to the miner
	Bits            uint32 `json:"bits"`              // difficulty: leading zero bits of a block hash
	MaxBlockTxs     int    `json:"max_block_txs"`     // reward included
	MaxBlockBytes   int    `json:"max_block_bytes"`   // as Block.Size counts
	MaxTxBytes      int    `json:"max_tx_bytes"`      // as Tx.Size counts
	MaxFutureMillis int64  `json:"max_future_millis"` // how far past the node's clock a timestamp may be
	GenesisMessage  string `json:"genesis_message"`

	// Retarget, when set, adjusts the difficulty while the network runs;
	// nil keeps Bits fixed for ever (the default network, as the original).
	Retarget *RetargetParams `json:"retarget,omitempty"`
}

// DefaultParams are the parameters of the default network (the genesis
// package embeds them with the genesis block).
func DefaultParams() Params {
	return Params{
		Network:         "pycotr",
		Reward:          10,
		Bits:            16,
		MaxBlockTxs:     2000,
		MaxBlockBytes:   1 << 20,
		MaxTxBytes:      8 << 10,
		MaxFutureMillis: 2 * 60 * 60 * 1000,
		GenesisMessage:  "Pycotr genesis block: every chain starts somewhere",
	}
}

// medianTimeSpan is how many previous blocks the median-time-past covers.
const medianTimeSpan = 11
