"""Comment-section text for benchmarks: 20-250 characters, polite to rude, mostly English
(and a few Korean sentences for the Korean model's figures)."""

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

# A Korean desk's comments, polite to rude: what the Korean model scores in the memory figure.
KOREAN_SENTENCES = (
    "기사 잘 읽었습니다. 예산 내역을 전부 공개해야 합니다.",
    "기자님 수고하셨습니다. 홍수 사진이 정말 마음 아프네요.",
    "숫자가 좀 이상한데 다시 확인해 주실 수 있나요?",
    "우리 동네 버스 시간표는 다음 달 언제부터 바뀌나요?",
    "이 동네에서 이십 년을 살았는데 교통이 이렇게 나쁜 적은 없었어요.",
    "시장은 자전거 도로를 약속했는데 우리는 아직도 기다리고 있습니다.",
    "좋은 기사 감사합니다. 연금 개편 설명 중에 제일 잘 되어 있네요.",
    "선생님들은 지금보다 훨씬 더 좋은 대우를 받아야 합니다.",
    "정치인들은 선거 때만 우리를 기억하네요.",
    "출처가 어디죠? 개발사 보도자료를 그대로 옮긴 것 같은데요.",
    "유가족께 깊은 위로를 전합니다. 좋은 분이셨어요.",
    "이런 쓰레기 같은 기사를 왜 쓰는 거냐.",
    "닥치고 꺼져라, 아무도 네 말 안 궁금해.",
    "댓글 수준이 정말 한심하다. 피해자들을 좀 존중해라.",
    "저 당 찍는 사람들은 다 바보다.",
    "가짜 뉴스 또 시작이네. 구독 취소합니다.",
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
