package server_test

import "math"

func sin(a float64) float64 { return math.Sin(a) }
func cos(a float64) float64 { return math.Cos(a) }
