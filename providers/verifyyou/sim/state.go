package sim

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Errors the Go control methods return.
var (
	// ErrUnknownUser: no user has that unique_id.
	ErrUnknownUser = errors.New("verifyyou sim: unknown user")
	// ErrInvalidState: the action does not apply to the user's current
	// state (accepting twice, deleting a connection that does not exist,
	// accepting after a deverification).
	ErrInvalidState = errors.New("verifyyou sim: action not possible in this state")
)

// Webhook events (seed).
const (
	EventConnectionVerified = "connection_verified"
	EventConnectionDeleted  = "connection_deleted"
	EventDeverification     = "deverification"
)

type user struct {
	ReferenceID string
	UniqueID    string
	InviteID    string
	Connected   bool
	Deverified  bool
	Data        string // data_request_response while connected
	Last        *Delivery
}

// User is a snapshot of one simulated user.
type User struct {
	ReferenceID string
	UniqueID    string
	InviteID    string
	InviteURL   string
	Connected   bool
	Deverified  bool
	// DataRequestResponse is what check_connection_status returns.
	DataRequestResponse string
	// LastDelivery is the last webhook sent for this user, if any.
	LastDelivery *Delivery
}

// change is one entry of the check_for_updates feed.
type change struct {
	referenceID string
	at          time.Time
}

func (s *Server) snapshot(u *user) User {
	out := User{ReferenceID: u.ReferenceID, UniqueID: u.UniqueID, InviteID: u.InviteID, InviteURL: s.InviteURL(u.UniqueID),
		Connected: u.Connected, Deverified: u.Deverified, DataRequestResponse: u.Data}
	if u.Last != nil {
		d := *u.Last
		out.LastDelivery = &d
	}
	return out
}

// User returns the user with uniqueID.
func (s *Server) User(uniqueID string) (User, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[uniqueID]
	if !ok {
		return User{}, false
	}
	return s.snapshot(u), true
}

// UniqueID returns the unique_id registered for referenceID.
func (s *Server) UniqueID(referenceID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.byRef[referenceID]
	return id, ok
}

// Users lists every user in registration order.
func (s *Server) Users() []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, s.snapshot(s.users[id]))
	}
	return out
}

// registerLocked returns the user for referenceID, creating it if needed.
func (s *Server) registerLocked(referenceID string) (*user, error) {
	if id, ok := s.byRef[referenceID]; ok {
		return s.users[id], nil
	}
	uid, err := s.uuid()
	if err != nil {
		return nil, err
	}
	inv, err := s.uuid()
	if err != nil {
		return nil, err
	}
	u := &user{ReferenceID: referenceID, UniqueID: uid, InviteID: "inv_" + inv}
	s.users[uid] = u
	s.byRef[referenceID] = uid
	s.order = append(s.order, uid)
	return u, nil
}

// Accept is the end user accepting the connection in the VerifyYou app:
// the user becomes connected with a data request response, the change
// enters the update feed and connection_verified is sent. The returned
// Delivery says how the webhook went; the state change stands either way.
func (s *Server) Accept(ctx context.Context, uniqueID string) (Delivery, error) {
	return s.transition(ctx, uniqueID, EventConnectionVerified, func(u *user) error {
		if u.Connected || u.Deverified {
			return ErrInvalidState
		}
		data, err := s.sampleData()
		if err != nil {
			return err
		}
		u.Connected, u.Data = true, data
		return nil
	})
}

// Delete is the end user deleting the connection (or their account):
// connection_deleted.
func (s *Server) Delete(ctx context.Context, uniqueID string) (Delivery, error) {
	return s.transition(ctx, uniqueID, EventConnectionDeleted, func(u *user) error {
		if !u.Connected {
			return ErrInvalidState
		}
		u.Connected, u.Data = false, ""
		return nil
	})
}

// Deverify is VerifyYou deverifying the user for fraud: the connection
// ends, the user cannot accept again, and deverification is sent.
func (s *Server) Deverify(ctx context.Context, uniqueID string) (Delivery, error) {
	return s.transition(ctx, uniqueID, EventDeverification, func(u *user) error {
		if !u.Connected {
			return ErrInvalidState
		}
		u.Connected, u.Deverified, u.Data = false, true, ""
		return nil
	})
}

// transition applies change under the lock, records the update, then sends
// the webhook without holding the lock (the receiver may call back).
func (s *Server) transition(ctx context.Context, uniqueID, event string, apply func(*user) error) (Delivery, error) {
	s.mu.Lock()
	u, ok := s.users[uniqueID]
	if !ok {
		s.mu.Unlock()
		return Delivery{}, ErrUnknownUser
	}
	if err := apply(u); err != nil {
		s.mu.Unlock()
		return Delivery{}, fmt.Errorf("%s: %w", event, err)
	}
	s.changes = append(s.changes, change{referenceID: u.ReferenceID, at: s.cfg.Now()})
	body, err := s.webhookBody(event, u)
	s.mu.Unlock()
	if err != nil {
		return Delivery{}, err
	}

	d := s.deliver(ctx, event, body)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.deliveries = append(s.deliveries, d)
	u.Last = &d
	return d, nil
}

// sampleData is a data request response: the seed types it as a string of
// unpublished format; this one is JSON text like the public v1 result.
func (s *Server) sampleData() (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
		return "", fmt.Errorf("verifyyou sim: random: %w", err)
	}
	data, err := json.Marshal(map[string]any{
		"humanness_score": 50 + int(b[0])%50,
		"unique_human_id": "uh_" + hex.EncodeToString(b[1:]),
	})
	return string(data), err
}

// uuid returns a random version 4 UUID.
func (s *Server) uuid() (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(s.cfg.Rand, b[:]); err != nil {
		return "", fmt.Errorf("verifyyou sim: random: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], nil
}
