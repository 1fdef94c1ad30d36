package server

func (s *Server) registerUI() {}
