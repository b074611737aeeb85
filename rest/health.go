package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/wakunode/wakunode/node"
)

func (s *Server) healthRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /health", s.handleHealth)
}

// handleHealth answers 200 with nwaku's JSON (rest-api.md §4), whatever the status: the body
// says how healthy the node is; 500 only when the node does not answer in time.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	rep := s.n.Health(ctx)
	if ctx.Err() != nil {
		writeText(w, http.StatusInternalServerError, "Health check timed out")
		return
	}
	b, err := encodeHealth(rep)
	if err != nil {
		writeText(w, http.StatusInternalServerError, "encode health: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}

// encodeHealth writes {"nodeHealth": s, "protocolsHealth": [{"<Protocol>": s, "desc": d}, ...]}.
// Each element's key is the protocol name, so the elements are built by hand: a map would do,
// but writing the name first keeps the output in nwaku's order.
func encodeHealth(rep node.HealthReport) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(`{"nodeHealth":`)
	if err := appendJSON(&buf, rep.NodeHealth); err != nil {
		return nil, err
	}
	buf.WriteString(`,"protocolsHealth":[`)
	for i, p := range rep.Protocols {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('{')
		if err := appendJSON(&buf, p.Protocol); err != nil {
			return nil, err
		}
		buf.WriteByte(':')
		if err := appendJSON(&buf, p.Status); err != nil {
			return nil, err
		}
		if p.Desc != "" && p.Protocol != "desc" {
			buf.WriteString(`,"desc":`)
			if err := appendJSON(&buf, p.Desc); err != nil {
				return nil, err
			}
		}
		buf.WriteByte('}')
	}
	buf.WriteString("]}")
	return buf.Bytes(), nil
}

func appendJSON(buf *bytes.Buffer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	buf.Write(b)
	return nil
}
