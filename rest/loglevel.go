package rest

import (
	"fmt"
	"net/http"
	"strings"
)

// Texts of nwaku's POST /admin/v1/log-level/{logLevel}.
const (
	msgLogLevelEmpty    = "Invalid log-level, it can’t be empty"
	msgLogLevelDisabled = "Dynamic Log level management is not enabled in this build."
)

// handleLogLevel changes the running log level (rest-api.md §5): 200 OK, 400 for an unknown
// level, 503 when the node was built without a setter (Config.LogLevel nil), as nwaku answers
// without runtime log filtering.
func (s *Server) handleLogLevel(w http.ResponseWriter, r *http.Request) {
	if s.cfg.LogLevel == nil {
		writeText(w, http.StatusServiceUnavailable, msgLogLevelDisabled)
		return
	}
	level := strings.TrimSpace(r.PathValue("logLevel"))
	if level == "" {
		writeText(w, http.StatusBadRequest, msgLogLevelEmpty)
		return
	}
	if err := s.cfg.LogLevel(level); err != nil {
		writeText(w, http.StatusBadRequest, fmt.Sprintf(
			"Invalid log-level: %s. Please specify one of TRACE, DEBUG, INFO, NOTICE, WARN, ERROR or FATAL", level))
		return
	}
	s.log.Info("log level changed through REST", "level", strings.ToUpper(level))
	writeOK(w)
}
