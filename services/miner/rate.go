package miner

import "time"

// rateMeter turns a growing counter into a rate averaged over at least a
// second (idle time included, so a stopped miner reads 0).
type rateMeter struct {
	at    time.Time
	count uint64
	rate  float64
}

func (r *rateMeter) sample(count uint64, now time.Time) float64 {
	if r.at.IsZero() {
		r.at, r.count = now, count
		return 0
	}
	if el := now.Sub(r.at); el >= time.Second {
		r.rate = float64(count-r.count) / el.Seconds()
		r.at, r.count = now, count
	}
	return r.rate
}
