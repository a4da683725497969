"""`crossline ask`: the adaptive assessment in a terminal, one question per screen.

The crisis line is printed on every screen; once an answer shows risk, the full crisis resources
are printed at once and on every following screen; acute risk ends the assessment on them.
"""

from __future__ import annotations

from typing import IO, Any

from crossline.engine import evaluate, next_step, remaining_at_most, walk
from crossline.engine.contract import parse_answers
from crossline.engine.errors import InvalidInput
from crossline.engine.flow import Step
from crossline.engine.instruments import safety_level, safety_screen_positive
from crossline.engine.knowledge import Knowledge
from crossline.render import render_decision

UI = {
    "en": {
        "choose": "Type the number of your answer (b = back, q = quit): ",
        "again": "Please type one of the numbers shown.",
        "progress": "Question {n} · at most {left} more",
        "checklist": "Type the numbers that apply, separated by commas. Put ? before a number if "
        "you are not sure (e.g. 3, ?7). Type 0 if none of these apply. ",
        "medications": "List every medicine and supplement you take, separated by commas "
        "(a dose after the name is fine). Press Enter alone if you take none: ",
        "state": "Type the two-letter code, e.g. FL: ",
        "age": "Type your age in years: ",
        "stopped": "Assessment stopped. Nothing was saved.",
        "acute": "Please reach out now. You do not have to go through this alone.",
        "others": "Do none of the other items apply to you? (y = none of the others / n): ",
        "language": "Language / Idioma — 1 English, 2 Español: ",
    },
    "es": {
        "choose": "Escriba el número de su respuesta (b = atrás, q = salir): ",
        "again": "Por favor, escriba uno de los números que se muestran.",
        "progress": "Pregunta {n} · como máximo {left} más",
        "checklist": "Escriba los números que correspondan, separados por comas. Ponga ? antes "
        "de un número si no está seguro(a) (p. ej., 3, ?7). Escriba 0 si ninguna "
        "corresponde. ",
        "medications": "Escriba todos los medicamentos y suplementos que toma, separados por "
        "comas (puede poner la dosis). Pulse Intro sin escribir nada si no toma "
        "ninguno: ",
        "state": "Escriba el código de dos letras, p. ej., FL: ",
        "age": "Escriba su edad en años: ",
        "stopped": "Evaluación detenida. No se guardó nada.",
        "acute": "Por favor, busque ayuda ahora. No tiene que pasar por esto a solas.",
        "others": "¿Ninguna de las otras opciones le corresponde? (s = ninguna de las otras / n): ",
        "language": "Language / Idioma — 1 English, 2 Español: ",
    },
}


YES = ("y", "yes", "s", "si", "sí")
LANGUAGE_CHOICES = {
    "1": "en",
    "en": "en",
    "english": "en",
    "2": "es",
    "es": "es",
    "español": "es",
    "espanol": "es",
    "spanish": "es",
}


class _Quit(Exception):
    pass


class _Back(Exception):
    pass


class Session:
    def __init__(self, knowledge: Knowledge, language: str, stdin: IO[str], stdout: IO[str]):
        self.k, self.lang, self.stdin, self.stdout = knowledge, language, stdin, stdout
        self.ui = UI[language]
        self.answers: dict[str, Any] = {}
        self.history: list[Step] = []

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def read(self, prompt: str) -> str:
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            raise _Quit
        text = line.strip()
        if text.lower() == "q":
            raise _Quit
        if text.lower() == "b":
            raise _Back
        return text

    def crisis_banner(self) -> None:
        res = self.k.docs["resources.toml"]
        if safety_screen_positive(self.answers) or self.answers.get("asq.5") in ("yes", "refused"):
            self.say("!! " + res["banner"][self.lang])
            for r in self.k.resources:
                self.say(f"   • {r.label[self.lang]}")
        else:
            self.say("[ " + res["banner"][self.lang] + " ]")

    def run(self) -> int:
        while True:
            step = next_step(self.k, self.answers)
            if step is None or (safety_level(self.answers) == "acute" and self._acuity_known()):
                return self.finish()
            self.say()
            self.crisis_banner()
            left, _ = remaining_at_most(self.k, self.answers)
            self.say(
                self.ui["progress"].format(
                    n=walk(self.k, self.answers).steps_answered + 1, left=max(left - 1, 0)
                )
            )
            try:
                self.ask(step)
                self.history.append(step)
            except _Back:
                self.back()
            except _Quit:
                self.say(self.ui["stopped"])
                return 1

    def _acuity_known(self) -> bool:
        return "asq.5" in self.answers

    def back(self) -> None:
        if self.history:
            for i in self.history.pop().ids:
                self.answers.pop(i, None)

    def ask(self, step: Step) -> None:
        if step.kind == "checklist":
            self.answers.update(self.ask_checklist(step))
        elif step.kind == "medications":
            self.answers["medications"] = self.ask_medications()
        else:
            item_id = step.ids[0]
            self.answers[item_id] = self.ask_question(item_id)

    def ask_question(self, item_id: str) -> Any:
        item = self.k.items[item_id]
        inst = self.k.instruments[item.instrument]
        if item.instrument in ("phq9", "gad7"):
            self.say(inst.stem[self.lang])
        self.say(item.text[self.lang])
        if item.help:
            self.say(f"  ({item.help[self.lang]})")
        if item.input in ("us_state", "integer"):
            prompt = self.ui["state"] if item.input == "us_state" else self.ui["age"]
            return self.ask_typed(item_id, prompt)
        for n, opt in enumerate(item.options, start=1):
            self.say(f"  {n}. {opt.text[self.lang]}")
        while True:
            text = self.read(self.ui["choose"])
            if _is_number(text) and 1 <= int(text) <= len(item.options):
                return item.options[int(text) - 1].value
            self.say(self.ui["again"])

    def ask_typed(self, item_id: str, prompt: str) -> Any:
        while True:
            text = self.read(prompt)
            value: Any = int(text) if _is_number(text.removeprefix("-")) else text
            try:
                return parse_answers(self.k, {item_id: value})[item_id]
            except InvalidInput as exc:
                self.say(exc.errors[0].message)

    def ask_checklist(self, step: Step) -> dict[str, str]:
        doc = self.k.docs["contraindications.toml"]["checklist"]
        self.say(doc["title"][self.lang])
        self.say(doc["intro"][self.lang])
        for n, item_id in enumerate(step.ids, start=1):
            self.say(f"  {n:2}. {self.k.items[item_id].text[self.lang]}")
        self.say(f"   0. {doc['none_label'][self.lang]}")
        while True:
            picked = _parse_checklist(self.read(self.ui["checklist"]), len(step.ids))
            # Only an explicit "none of these (others)" turns unticked lines into "no".
            if picked is not None and (0 in picked or self.read(self.ui["others"]) in YES):
                return {i: picked.get(n, "no") for n, i in enumerate(step.ids, start=1)}
            self.say(self.ui["again"])

    def ask_medications(self) -> list[str]:
        while True:
            text = self.read(self.ui["medications"])
            names = [" ".join(p.split()) for p in text.split(",") if p.strip()]
            try:
                return list(parse_answers(self.k, {"medications": names})["medications"])
            except InvalidInput as exc:
                self.say(exc.errors[0].message)

    def finish(self) -> int:
        decision = evaluate(self.k, self.answers, self.lang).to_dict()
        self.say()
        if decision["safety"]["level"] == "acute":
            self.say("!! " + self.ui["acute"])
        self.say(render_decision(decision, self.k))
        return 0


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _parse_checklist(text: str, size: int) -> dict[int, str] | None:
    """'3, ?7' -> {3: 'yes', 7: 'unsure'}; a 0 among them = none of the others apply.

    None if not understood (an empty line is not "none of these").
    """
    picked: dict[int, str] = {}
    for part in text.replace(" ", "").split(","):
        unsure = part.startswith("?")
        number = part.lstrip("?")
        if not _is_number(number) or not 0 <= int(number) <= size or (unsure and number == "0"):
            return None
        picked[int(number)] = "unsure" if unsure else "yes"
    return picked or None


def run(language: str | None, stdin: IO[str], stdout: IO[str]) -> int:
    from crossline.knowledge import load

    while language is None:
        stdout.write(UI["en"]["language"])
        stdout.flush()
        line = stdin.readline()
        if not line:
            return 1
        language = LANGUAGE_CHOICES.get(line.strip().lower())
    return Session(load(), language, stdin, stdout).run()
