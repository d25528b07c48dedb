namespace SignalFunctions.Demo;

public sealed record DemoDataRequest(
    long Rows, long Seed, int Articles, long Clicks, int Days, long Positions = 0, int Brands = 40, int Campaigns = 0, int Decisions = 0);
