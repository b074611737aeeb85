package rest

import "net/http"

// InfoResponse is GET /debug/v1/info (rest-api.md §3).
type InfoResponse struct {
	ListenAddresses []string `json:"listenAddresses"`
	EnrURI          string   `json:"enrUri,omitempty"`
}

func (s *Server) debugRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /debug/v1/info", s.handleInfo)
	mux.HandleFunc("GET /info", s.handleInfo)
	mux.HandleFunc("GET /debug/v1/version", s.handleVersion)
	mux.HandleFunc("GET /version", s.handleVersion)
}

func (s *Server) handleInfo(w http.ResponseWriter, _ *http.Request) {
	addrs := s.n.ListenAddrs()
	out := InfoResponse{ListenAddresses: make([]string, 0, len(addrs)), EnrURI: s.n.ENR()}
	for _, a := range addrs {
		out.ListenAddresses = append(out.ListenAddresses, a.String())
	}
	writeJSON(w, out)
}

// handleVersion answers in text/plain, as nwaku does.
func (s *Server) handleVersion(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, s.cfg.Version)
}
