namespace SignalFunctions.Demo;

public sealed record BrandPositionsResult(long Brands, long Results, long Positions);
