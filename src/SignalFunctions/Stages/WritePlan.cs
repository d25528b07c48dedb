namespace SignalFunctions.Stages;

/// <summary>Where one write goes: the authoritative side first, then (optionally) the other.</summary>
public readonly record struct WritePlan(Side Authoritative, Side? Secondary)
{
    public bool Writes(Side side) => Authoritative == side || Secondary == side;
}
