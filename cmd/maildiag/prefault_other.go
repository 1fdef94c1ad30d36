//go:build !linux

package main

func prefaultCode() {}
