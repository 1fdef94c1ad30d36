package synth

// backgroundFate draws how an ordinary message's delivery goes, from the
// recipient's properties and the provider's habits.
func (g *generator) backgroundFate(c *msgCtx) fate {
	r, d, p := c.r, c.d, c.props
	gw := d.gw
	switch {
	case d.dead:
		return fate{kind: fTempForever, temp: noMX}
	case p.invalid && p.acceptBounce:
		return fate{kind: fDelayed, final: replyFor(gw, rcDelayed, p.h)}
	case p.invalid:
		return fate{kind: fPerm, final: replyFor(gw, rcUserUnknown, p.h)}
	case p.disabled:
		return fate{kind: fPerm, final: replyFor(gw, rcDisabled, p.h)}
	case p.full:
		switch x := r.float(); {
		case x < 0.5:
			return fate{kind: fTempThen, n: r.between(1, 4), temp: replyFor(gw, rcFullTemp, p.h)}
		case x < 0.8:
			return fate{kind: fTempForever, temp: replyFor(gw, rcFullTemp, p.h)}
		default:
			return fate{kind: fPerm, final: replyFor(gw, rcFullPerm, p.h)}
		}
	}
	h := r.u64()
	if c.m.Size > 8<<20 && r.chance(0.25) {
		// Big attachments: some servers take 10 MB, fewer take 25.
		return fate{kind: fPerm, final: replyFor(gw, rcTooLarge, h)}
	}
	switch x := r.float(); {
	case x < 0.006:
		return fate{kind: fPerm, final: replyFor(gw, rcReputation, h)}
	case x < 0.011:
		return fate{kind: fPerm, final: replyFor(gw, rcContent, h)}
	case x < 0.015:
		return fate{kind: fPerm, final: replyFor(gw, rcPolicy, h)}
	case x < 0.0155:
		return fate{kind: fTempForever, temp: g.deferral(gw, h)}
	case (d.greylist || gw == gwMimecast) && x < 0.25:
		return fate{kind: fTempThen, n: 1, temp: replyFor(gw, rcGreylist, h)}
	case x < 0.04:
		return fate{kind: fTempThen, n: 1 + int(h>>60)%3, temp: g.deferral(gw, h)}
	}
	return fate{kind: fDeliver}
}

// deferral picks a temporary failure: mostly the provider's own throttling,
// sometimes a connection problem on the way.
func (g *generator) deferral(gw gateway, h uint64) *reply {
	if (h>>20)%10 < 3 || len(gatewayReplies[gw][rcDeferral]) == 0 {
		return fallbackReplies[rcDeferral][(h>>24)%uint64(len(fallbackReplies[rcDeferral]))]
	}
	return replyFor(gw, rcDeferral, h>>28)
}
