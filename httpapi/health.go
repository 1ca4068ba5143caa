package httpapi

import "net/http"

// healthz is the liveness probe: the process answers.
func (a *api) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, v1ContentType, map[string]string{"status": "alive"})
}

// readyz is the readiness probe: 200 once the node is connected and has
// made its first sync, 503 with the reason before.
func (a *api) readyz(w http.ResponseWriter, r *http.Request) {
	if ok, reason := a.node.Ready(); !ok {
		writeJSON(w, http.StatusServiceUnavailable, v1ContentType, map[string]string{"status": "not ready", "reason": reason})
		return
	}
	writeJSON(w, http.StatusOK, v1ContentType, map[string]string{"status": "ready"})
}
