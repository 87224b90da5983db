"""Comment-section text for benchmarks: 20-250 characters, polite to rude, mostly English."""

from __future__ import annotations

import random

SENTENCES = (
    "Thanks for the article, the council should publish the full budget.",
    "I disagree with the writer, but this is a fair summary of the vote.",
    "Great reporting! The photos from the flood are heartbreaking.",
    "Could the paper check the numbers? The turnout figure looks wrong.",
    "My grandmother lived on that street for sixty years, what a loss.",
    "Does anyone know when the new bus timetable starts next month?",
    "The mayor promised new cycle lanes in 2024 and we are still waiting.",
    "Interesting piece, though it ignores what happened in the last election.",
    "Why is nobody talking about the cost of the stadium?",
    "This is the best explanation of the pension changes I have read.",
    "Well said. Teachers deserve far better than this.",
    "I have lived here for twenty years and the traffic has never been worse.",
    "Please fix the paywall, I can't read the second page on my phone.",
    "Sources? This sounds like a press release from the developer.",
    "The referee was awful tonight, but we still should have won.",
    "Condolences to the family, he was a kind man and a great coach.",
    "Typical politicians, they only remember us before an election.",
    "You are an idiot and nobody wants to read your stupid opinions.",
    "Shut up, you clown. Go back to whatever hole you crawled out of.",
    "This government lies every single day and the press lets them.",
    "Pathetic. Absolute garbage journalism from a garbage outlet.",
    "Anyone who votes for that party is a moron, plain and simple.",
    "What a ridiculous take, did the author even read the report?",
    "People like you are the reason this town is going downhill.",
    "Get lost, troll. Nobody cares what you think.",
    "The comments here are a disgrace, have some respect for the victims.",
    "Fake news as usual. Cancel my subscription.",
    "I hope the new hospital wing opens on time, the waits are terrible.",
    "Lower the speed limit near the school before someone gets hurt.",
    "The recipe worked perfectly, my kids loved it!",
)


def comments(count: int, *, seed: int = 1) -> list[str]:
    """`count` comments of one to four sentences, none longer than 250 characters."""
    rng = random.Random(seed)
    result: list[str] = []
    while len(result) < count:
        text = rng.choice(SENTENCES)
        for _ in range(rng.randrange(4)):
            longer = f"{text} {rng.choice(SENTENCES)}"
            if len(longer) > 250:
                break
            text = longer
        result.append(text)
    return result
