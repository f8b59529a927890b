"""Every sentence the bot speaks without the LLM, one table per language, each in its own script.

The greeting, silence check-ins, goodbyes, the transfer notice, the time-up notice, the
apologies when a vendor fails, and the message left on an answering machine. bot.py picks the
call's table (`PHRASES[settings.language]`) and hands it over. Edit the words freely: the tests
read them from here, or check only the script a phrase is written in. To add a language, add a
table here and its service codes in `exotel_bot/languages.py`.

Templates: `{hello}` is `hello` or `hello_named` (with `{name}`), `{about}` is `about` (with
`{purpose}`) or empty; both come from the call (custom parameters or the dial's context).
"""

from __future__ import annotations

from dataclasses import replace

from exotel_bot.call.phrases import Phrases

ENGLISH = Phrases(
    answer_in="English",
    hello="Hello",
    hello_named="Hello {name}",
    inbound_greeting="{hello}! Thanks for calling Acme Store. How can I help you today?",
    outbound_greeting="{hello}, this is the Acme Store assistant, calling{about}. Is now a good time?",
    about=" about {purpose}",
    voicemail=(
        "{hello}, this is the Acme Store assistant, calling{about}. "
        "Please call us back when you can. Thank you, goodbye!"
    ),
    check_in="Are you still there?",
    silence_goodbye="I can't hear you, so I'll end the call now. Please call again. Goodbye!",
    goodbye="Thank you for calling. Goodbye!",
    transfer="Please hold while I connect you to a colleague.",
    # {department}: a name from bot.py's DEPARTMENTS, said as written there
    transfer_to="Please hold while I connect you to our {department} team.",
    time_up="We're out of time for this call. Thank you for calling, goodbye!",
    apology="Sorry, I had a problem there. Could you say that again?",
    trouble_goodbye=(
        "Sorry, I'm having technical trouble and can't help right now. "
        "Please call again later. Goodbye!"
    ),
    recorded_apology="Sorry, we're having a technical problem.",
    screening="This is the Acme Store assistant, calling for {name}{about}.",
)

PHRASES: dict[str, Phrases] = {
    "en": ENGLISH,
    "en-in": replace(ENGLISH, answer_in="Indian English"),
    "hi": Phrases(
        answer_in="Hindi, written in Devanagari",
        hello="नमस्ते",
        hello_named="नमस्ते {name}",
        inbound_greeting="{hello}! Acme Store में आपका स्वागत है। मैं आपकी क्या मदद कर सकती हूँ?",
        outbound_greeting="{hello}! मैं Acme Store से बोल रही हूँ{about}। क्या अभी बात करने का सही समय है?",
        about=", {purpose} के बारे में",
        voicemail="{hello}! मैं Acme Store से बोल रही हूँ{about}। कृपया समय मिलने पर हमें वापस कॉल करें। धन्यवाद!",
        check_in="क्या आप अभी भी लाइन पर हैं?",
        silence_goodbye="मुझे आपकी आवाज़ नहीं आ रही है, इसलिए मैं कॉल समाप्त कर रही हूँ। नमस्ते!",
        goodbye="कॉल करने के लिए धन्यवाद। नमस्ते!",
        transfer="कृपया लाइन पर बने रहें, मैं आपको हमारे सहयोगी से जोड़ रही हूँ।",
        transfer_to="कृपया लाइन पर बने रहें, मैं आपको हमारी {department} टीम से जोड़ रही हूँ।",
        time_up="इस कॉल का समय समाप्त हो गया है। कॉल करने के लिए धन्यवाद, नमस्ते!",
        apology="माफ़ कीजिए, कुछ गड़बड़ हो गई। क्या आप फिर से बोल सकते हैं?",
        trouble_goodbye=(
            "माफ़ कीजिए, तकनीकी समस्या की वजह से मैं अभी मदद नहीं कर पा रही हूँ। "
            "कृपया बाद में फिर कॉल करें। नमस्ते!"
        ),
        recorded_apology="माफ़ कीजिए, हमें तकनीकी समस्या आ रही है।",
        screening="मैं Acme Store से बोल रही हूँ, {name} जी के लिए कॉल है{about}।",
    ),
    "hinglish": Phrases(
        answer_in=(
            "Hinglish: the caller's own mix of Hindi and English in one sentence, Hindi words "
            "in Devanagari and English words in Latin letters; follow the caller's mix"
        ),
        hello="Hi",
        hello_named="Hi {name}",
        inbound_greeting="{hello}! Acme Store में आपका welcome है। मैं आपकी क्या help कर सकती हूँ?",
        outbound_greeting="{hello}! मैं Acme Store से बोल रही हूँ{about}। क्या अभी बात करने का सही time है?",
        about=", {purpose} के बारे में",
        voicemail="{hello}! मैं Acme Store से बोल रही हूँ{about}। Please जब time मिले, हमें call back करें। Thank you!",
        check_in="Hello, क्या आप अभी भी line पर हैं?",
        silence_goodbye="मुझे आपकी आवाज़ नहीं आ रही, इसलिए मैं call end कर रही हूँ। Please दोबारा call करें। Bye!",
        goodbye="Call करने के लिए thank you। Bye!",
        transfer="Please line पर बने रहें, मैं आपको हमारे colleague से connect कर रही हूँ।",
        transfer_to="Please line पर बने रहें, मैं आपको हमारी {department} team से connect कर रही हूँ।",
        time_up="इस call का time खत्म हो गया है। Call करने के लिए thank you, bye!",
        apology="Sorry, कुछ problem हो गई। क्या आप फिर से बोल सकते हैं?",
        trouble_goodbye=(
            "Sorry, technical problem की वजह से मैं अभी help नहीं कर पा रही हूँ। "
            "Please बाद में फिर call करें। Bye!"
        ),
        recorded_apology="Sorry, हमें technical problem आ रही है।",
        screening="मैं Acme Store से बोल रही हूँ, {name} जी के लिए call है{about}।",
    ),
    "bn": Phrases(
        answer_in="Bengali, written in Bengali script",
        hello="নমস্কার",
        hello_named="নমস্কার {name}",
        inbound_greeting="{hello}! Acme Store-এ আপনাকে স্বাগত। আমি কীভাবে আপনাকে সাহায্য করতে পারি?",
        outbound_greeting="{hello}! আমি Acme Store থেকে বলছি{about}। এখন কথা বলার সময় হবে কি?",
        about=", {purpose} নিয়ে",
        voicemail="{hello}! আমি Acme Store থেকে বলছি{about}। সময় পেলে আমাদের ফোন করবেন। ধন্যবাদ!",
        check_in="আপনি কি এখনও লাইনে আছেন?",
        silence_goodbye="আমি আপনার কথা শুনতে পাচ্ছি না, তাই কলটি শেষ করছি। আবার ফোন করবেন। নমস্কার!",
        goodbye="ফোন করার জন্য ধন্যবাদ। নমস্কার!",
        transfer="অনুগ্রহ করে লাইনে থাকুন, আমি আপনাকে আমাদের একজন সহকর্মীর সঙ্গে যুক্ত করছি।",
        transfer_to="অনুগ্রহ করে লাইনে থাকুন, আমি আপনাকে আমাদের {department} দলের সঙ্গে যুক্ত করছি।",
        time_up="এই কলের সময় শেষ হয়ে গেছে। ফোন করার জন্য ধন্যবাদ, নমস্কার!",
        apology="দুঃখিত, একটা সমস্যা হয়েছে। আপনি কি আবার বলবেন?",
        trouble_goodbye=(
            "দুঃখিত, প্রযুক্তিগত সমস্যার কারণে আমি এখন সাহায্য করতে পারছি না। পরে আবার ফোন করবেন। নমস্কার!"
        ),
        recorded_apology="দুঃখিত, আমাদের একটা প্রযুক্তিগত সমস্যা হচ্ছে।",
    ),
    "ta": Phrases(
        answer_in="Tamil, written in Tamil script",
        hello="வணக்கம்",
        hello_named="வணக்கம் {name}",
        inbound_greeting="{hello}! Acme Store-க்கு உங்களை வரவேற்கிறோம். நான் உங்களுக்கு எப்படி உதவ முடியும்?",
        outbound_greeting="{hello}! நான் Acme Store-இலிருந்து பேசுகிறேன்{about}. இப்போது பேச உங்களுக்கு நேரம் இருக்கிறதா?",
        about=", {purpose} பற்றி",
        voicemail="{hello}! நான் Acme Store-இலிருந்து பேசுகிறேன்{about}. நேரம் கிடைக்கும்போது எங்களைத் திரும்ப அழைக்கவும். நன்றி!",
        check_in="நீங்கள் இன்னும் லைனில் இருக்கிறீர்களா?",
        silence_goodbye="உங்கள் குரல் கேட்கவில்லை, அதனால் அழைப்பை முடிக்கிறேன். மீண்டும் அழைக்கவும். நன்றி!",
        goodbye="அழைத்ததற்கு நன்றி. வணக்கம்!",
        transfer="தயவுசெய்து லைனில் இருங்கள், உங்களை எங்கள் சக ஊழியருடன் இணைக்கிறேன்.",
        transfer_to="தயவுசெய்து லைனில் இருங்கள், உங்களை எங்கள் {department} குழுவுடன் இணைக்கிறேன்.",
        time_up="இந்த அழைப்புக்கான நேரம் முடிந்துவிட்டது. அழைத்ததற்கு நன்றி, வணக்கம்!",
        apology="மன்னிக்கவும், ஒரு சிக்கல் ஏற்பட்டது. மீண்டும் சொல்ல முடியுமா?",
        trouble_goodbye=(
            "மன்னிக்கவும், தொழில்நுட்பக் கோளாறு காரணமாக இப்போது உதவ முடியவில்லை. பிறகு மீண்டும் அழைக்கவும். நன்றி!"
        ),
        recorded_apology="மன்னிக்கவும், எங்களுக்கு ஒரு தொழில்நுட்பக் கோளாறு உள்ளது.",
    ),
    "te": Phrases(
        answer_in="Telugu, written in Telugu script",
        hello="నమస్కారం",
        hello_named="నమస్కారం {name}",
        inbound_greeting="{hello}! Acme Store కి స్వాగతం. నేను మీకు ఎలా సహాయం చేయగలను?",
        outbound_greeting="{hello}! నేను Acme Store నుండి మాట్లాడుతున్నాను{about}. ఇప్పుడు మాట్లాడటానికి మీకు వీలుందా?",
        about=", {purpose} గురించి",
        voicemail="{hello}! నేను Acme Store నుండి మాట్లాడుతున్నాను{about}. మీకు వీలైనప్పుడు మాకు తిరిగి కాల్ చేయండి. ధన్యవాదాలు!",
        check_in="మీరు ఇంకా లైన్‌లో ఉన్నారా?",
        silence_goodbye="మీ మాట వినిపించడం లేదు, అందుకే కాల్ ముగిస్తున్నాను. దయచేసి మళ్ళీ కాల్ చేయండి. ధన్యవాదాలు!",
        goodbye="కాల్ చేసినందుకు ధన్యవాదాలు. నమస్కారం!",
        transfer="దయచేసి లైన్‌లో ఉండండి, మిమ్మల్ని మా సహోద్యోగికి కలుపుతున్నాను.",
        transfer_to="దయచేసి లైన్‌లో ఉండండి, మిమ్మల్ని మా {department} బృందానికి కలుపుతున్నాను.",
        time_up="ఈ కాల్ సమయం ముగిసింది. కాల్ చేసినందుకు ధన్యవాదాలు, నమస్కారం!",
        apology="క్షమించండి, ఏదో సమస్య వచ్చింది. మీరు మళ్ళీ చెప్పగలరా?",
        trouble_goodbye=(
            "క్షమించండి, సాంకేతిక సమస్య వల్ల ఇప్పుడు సహాయం చేయలేకపోతున్నాను. దయచేసి తర్వాత మళ్ళీ కాల్ చేయండి. ధన్యవాదాలు!"
        ),
        recorded_apology="క్షమించండి, మాకు సాంకేతిక సమస్య ఉంది.",
    ),
    "kn": Phrases(
        answer_in="Kannada, written in Kannada script",
        hello="ನಮಸ್ಕಾರ",
        hello_named="ನಮಸ್ಕಾರ {name}",
        inbound_greeting="{hello}! Acme Store ಗೆ ಸ್ವಾಗತ. ನಾನು ನಿಮಗೆ ಹೇಗೆ ಸಹಾಯ ಮಾಡಲಿ?",
        outbound_greeting="{hello}! ನಾನು Acme Store ನಿಂದ ಮಾತನಾಡುತ್ತಿದ್ದೇನೆ{about}. ಈಗ ಮಾತನಾಡಲು ನಿಮಗೆ ಸಮಯವಿದೆಯೇ?",
        about=", {purpose} ಬಗ್ಗೆ",
        voicemail="{hello}! ನಾನು Acme Store ನಿಂದ ಮಾತನಾಡುತ್ತಿದ್ದೇನೆ{about}. ಸಮಯ ಸಿಕ್ಕಾಗ ನಮಗೆ ಮರಳಿ ಕರೆ ಮಾಡಿ. ಧನ್ಯವಾದಗಳು!",
        check_in="ನೀವು ಇನ್ನೂ ಲೈನ್‌ನಲ್ಲಿ ಇದ್ದೀರಾ?",
        silence_goodbye="ನಿಮ್ಮ ಧ್ವನಿ ಕೇಳಿಸುತ್ತಿಲ್ಲ, ಆದ್ದರಿಂದ ಕರೆಯನ್ನು ಮುಗಿಸುತ್ತಿದ್ದೇನೆ. ದಯವಿಟ್ಟು ಮತ್ತೆ ಕರೆ ಮಾಡಿ. ಧನ್ಯವಾದಗಳು!",
        goodbye="ಕರೆ ಮಾಡಿದ್ದಕ್ಕೆ ಧನ್ಯವಾದಗಳು. ನಮಸ್ಕಾರ!",
        transfer="ದಯವಿಟ್ಟು ಲೈನ್‌ನಲ್ಲಿರಿ, ನಿಮ್ಮನ್ನು ನಮ್ಮ ಸಹೋದ್ಯೋಗಿಗೆ ಸಂಪರ್ಕಿಸುತ್ತಿದ್ದೇನೆ.",
        transfer_to="ದಯವಿಟ್ಟು ಲೈನ್‌ನಲ್ಲಿರಿ, ನಿಮ್ಮನ್ನು ನಮ್ಮ {department} ತಂಡಕ್ಕೆ ಸಂಪರ್ಕಿಸುತ್ತಿದ್ದೇನೆ.",
        time_up="ಈ ಕರೆಯ ಸಮಯ ಮುಗಿದಿದೆ. ಕರೆ ಮಾಡಿದ್ದಕ್ಕೆ ಧನ್ಯವಾದಗಳು, ನಮಸ್ಕಾರ!",
        apology="ಕ್ಷಮಿಸಿ, ಏನೋ ತೊಂದರೆಯಾಯಿತು. ದಯವಿಟ್ಟು ಮತ್ತೊಮ್ಮೆ ಹೇಳುತ್ತೀರಾ?",
        trouble_goodbye=(
            "ಕ್ಷಮಿಸಿ, ತಾಂತ್ರಿಕ ತೊಂದರೆಯಿಂದ ಈಗ ಸಹಾಯ ಮಾಡಲು ಆಗುತ್ತಿಲ್ಲ. ದಯವಿಟ್ಟು ನಂತರ ಮತ್ತೆ ಕರೆ ಮಾಡಿ. ಧನ್ಯವಾದಗಳು!"
        ),
        recorded_apology="ಕ್ಷಮಿಸಿ, ನಮಗೆ ತಾಂತ್ರಿಕ ತೊಂದರೆ ಉಂಟಾಗಿದೆ.",
    ),
    "ml": Phrases(
        answer_in="Malayalam, written in Malayalam script",
        hello="നമസ്കാരം",
        hello_named="നമസ്കാരം {name}",
        inbound_greeting="{hello}! Acme Store-ലേക്ക് സ്വാഗതം. ഞാൻ നിങ്ങളെ എങ്ങനെ സഹായിക്കണം?",
        outbound_greeting="{hello}! ഞാൻ Acme Store-ൽ നിന്നാണ് വിളിക്കുന്നത്{about}. ഇപ്പോൾ സംസാരിക്കാൻ സമയമുണ്ടോ?",
        about=", {purpose} സംബന്ധിച്ച്",
        voicemail="{hello}! ഞാൻ Acme Store-ൽ നിന്നാണ് വിളിക്കുന്നത്{about}. സമയം കിട്ടുമ്പോൾ ഞങ്ങളെ തിരികെ വിളിക്കുക. നന്ദി!",
        check_in="നിങ്ങൾ ഇപ്പോഴും ലൈനിൽ ഉണ്ടോ?",
        silence_goodbye="നിങ്ങളുടെ ശബ്ദം കേൾക്കുന്നില്ല, അതിനാൽ ഞാൻ കോൾ അവസാനിപ്പിക്കുന്നു. ദയവായി വീണ്ടും വിളിക്കുക. നന്ദി!",
        goodbye="വിളിച്ചതിന് നന്ദി. നമസ്കാരം!",
        transfer="ദയവായി ലൈനിൽ തുടരുക, ഞാൻ നിങ്ങളെ ഞങ്ങളുടെ സഹപ്രവർത്തകനുമായി ബന്ധിപ്പിക്കുന്നു.",
        transfer_to="ദയവായി ലൈനിൽ തുടരുക, ഞാൻ നിങ്ങളെ ഞങ്ങളുടെ {department} ടീമുമായി ബന്ധിപ്പിക്കുന്നു.",
        time_up="ഈ കോളിന്റെ സമയം കഴിഞ്ഞു. വിളിച്ചതിന് നന്ദി, നമസ്കാരം!",
        apology="ക്ഷമിക്കണം, ഒരു പ്രശ്നമുണ്ടായി. ഒന്നുകൂടി പറയാമോ?",
        trouble_goodbye=(
            "ക്ഷമിക്കണം, സാങ്കേതിക പ്രശ്നം കാരണം ഇപ്പോൾ സഹായിക്കാൻ കഴിയുന്നില്ല. "
            "ദയവായി പിന്നീട് വീണ്ടും വിളിക്കുക. നന്ദി!"
        ),
        recorded_apology="ക്ഷമിക്കണം, ഞങ്ങൾക്ക് ഒരു സാങ്കേതിക പ്രശ്നമുണ്ട്.",
    ),
    "mr": Phrases(
        answer_in="Marathi, written in Devanagari",
        hello="नमस्कार",
        hello_named="नमस्कार {name}",
        inbound_greeting="{hello}! Acme Store मध्ये आपले स्वागत आहे. मी आपली काय मदत करू शकते?",
        outbound_greeting="{hello}! मी Acme Store मधून बोलत आहे{about}. आता बोलायला वेळ आहे का?",
        about=", {purpose} बद्दल",
        voicemail="{hello}! मी Acme Store मधून बोलत आहे{about}. वेळ मिळाल्यावर कृपया आम्हाला परत कॉल करा. धन्यवाद!",
        check_in="आपण अजून लाईनवर आहात का?",
        silence_goodbye="मला आपला आवाज ऐकू येत नाही, म्हणून मी कॉल संपवत आहे. कृपया पुन्हा कॉल करा. धन्यवाद!",
        goodbye="कॉल केल्याबद्दल धन्यवाद. नमस्कार!",
        transfer="कृपया लाईनवर थांबा, मी आपल्याला आमच्या सहकाऱ्याशी जोडत आहे.",
        transfer_to="कृपया लाईनवर थांबा, मी आपल्याला आमच्या {department} टीमशी जोडत आहे.",
        time_up="या कॉलची वेळ संपली आहे. कॉल केल्याबद्दल धन्यवाद, नमस्कार!",
        apology="माफ करा, काहीतरी अडचण आली. आपण पुन्हा सांगू शकाल का?",
        trouble_goodbye=(
            "माफ करा, तांत्रिक अडचणीमुळे मी आत्ता मदत करू शकत नाही. कृपया नंतर पुन्हा कॉल करा. धन्यवाद!"
        ),
        recorded_apology="माफ करा, आम्हाला तांत्रिक अडचण येत आहे.",
    ),
    "gu": Phrases(
        answer_in="Gujarati, written in Gujarati script",
        hello="નમસ્તે",
        hello_named="નમસ્તે {name}",
        inbound_greeting="{hello}! Acme Store માં આપનું સ્વાગત છે. હું આપની શું મદદ કરી શકું?",
        outbound_greeting="{hello}! હું Acme Store માંથી બોલું છું{about}. શું અત્યારે વાત કરવાનો સમય છે?",
        about=", {purpose} વિશે",
        voicemail="{hello}! હું Acme Store માંથી બોલું છું{about}. સમય મળે ત્યારે કૃપા કરીને અમને પાછો ફોન કરજો. આભાર!",
        check_in="શું તમે હજી લાઇન પર છો?",
        silence_goodbye="મને તમારો અવાજ સંભળાતો નથી, તેથી હું કૉલ પૂરો કરું છું. કૃપા કરીને ફરી ફોન કરજો. આભાર!",
        goodbye="ફોન કરવા બદલ આભાર. આવજો!",
        transfer="કૃપા કરીને લાઇન પર રહો, હું તમને અમારા સહકર્મી સાથે જોડું છું.",
        transfer_to="કૃપા કરીને લાઇન પર રહો, હું તમને અમારી {department} ટીમ સાથે જોડું છું.",
        time_up="આ કૉલનો સમય પૂરો થયો છે. ફોન કરવા બદલ આભાર, આવજો!",
        apology="માફ કરશો, કંઈક તકલીફ થઈ. શું તમે ફરીથી કહી શકશો?",
        trouble_goodbye=(
            "માફ કરશો, ટેકનિકલ તકલીફને કારણે હું અત્યારે મદદ કરી શકતી નથી. "
            "કૃપા કરીને પછી ફરી ફોન કરજો. આવજો!"
        ),
        recorded_apology="માફ કરશો, અમને ટેકનિકલ તકલીફ આવી રહી છે.",
    ),
    "pa": Phrases(
        answer_in="Punjabi, written in Gurmukhi",
        hello="ਸਤ ਸ੍ਰੀ ਅਕਾਲ",
        hello_named="ਸਤ ਸ੍ਰੀ ਅਕਾਲ {name}",
        inbound_greeting="{hello}! Acme Store ਵਿੱਚ ਤੁਹਾਡਾ ਸੁਆਗਤ ਹੈ। ਮੈਂ ਤੁਹਾਡੀ ਕੀ ਮਦਦ ਕਰ ਸਕਦੀ ਹਾਂ?",
        outbound_greeting="{hello}! ਮੈਂ Acme Store ਤੋਂ ਬੋਲ ਰਹੀ ਹਾਂ{about}। ਕੀ ਹੁਣ ਗੱਲ ਕਰਨ ਦਾ ਸਮਾਂ ਹੈ?",
        about=", {purpose} ਬਾਰੇ",
        voicemail="{hello}! ਮੈਂ Acme Store ਤੋਂ ਬੋਲ ਰਹੀ ਹਾਂ{about}। ਸਮਾਂ ਮਿਲਣ 'ਤੇ ਕਿਰਪਾ ਕਰਕੇ ਸਾਨੂੰ ਵਾਪਸ ਫ਼ੋਨ ਕਰੋ। ਧੰਨਵਾਦ!",
        check_in="ਕੀ ਤੁਸੀਂ ਅਜੇ ਵੀ ਲਾਈਨ 'ਤੇ ਹੋ?",
        silence_goodbye="ਮੈਨੂੰ ਤੁਹਾਡੀ ਆਵਾਜ਼ ਨਹੀਂ ਆ ਰਹੀ, ਇਸ ਲਈ ਮੈਂ ਕਾਲ ਖ਼ਤਮ ਕਰ ਰਹੀ ਹਾਂ। ਕਿਰਪਾ ਕਰਕੇ ਦੁਬਾਰਾ ਫ਼ੋਨ ਕਰੋ। ਧੰਨਵਾਦ!",
        goodbye="ਫ਼ੋਨ ਕਰਨ ਲਈ ਧੰਨਵਾਦ। ਸਤ ਸ੍ਰੀ ਅਕਾਲ!",
        transfer="ਕਿਰਪਾ ਕਰਕੇ ਲਾਈਨ 'ਤੇ ਰਹੋ, ਮੈਂ ਤੁਹਾਨੂੰ ਸਾਡੇ ਸਾਥੀ ਨਾਲ ਜੋੜ ਰਹੀ ਹਾਂ।",
        transfer_to="ਕਿਰਪਾ ਕਰਕੇ ਲਾਈਨ 'ਤੇ ਰਹੋ, ਮੈਂ ਤੁਹਾਨੂੰ ਸਾਡੀ {department} ਟੀਮ ਨਾਲ ਜੋੜ ਰਹੀ ਹਾਂ।",
        time_up="ਇਸ ਕਾਲ ਦਾ ਸਮਾਂ ਖ਼ਤਮ ਹੋ ਗਿਆ ਹੈ। ਫ਼ੋਨ ਕਰਨ ਲਈ ਧੰਨਵਾਦ, ਸਤ ਸ੍ਰੀ ਅਕਾਲ!",
        apology="ਮਾਫ਼ ਕਰਨਾ, ਕੋਈ ਗੜਬੜ ਹੋ ਗਈ। ਕੀ ਤੁਸੀਂ ਦੁਬਾਰਾ ਬੋਲ ਸਕਦੇ ਹੋ?",
        trouble_goodbye=(
            "ਮਾਫ਼ ਕਰਨਾ, ਤਕਨੀਕੀ ਸਮੱਸਿਆ ਕਾਰਨ ਮੈਂ ਹੁਣ ਮਦਦ ਨਹੀਂ ਕਰ ਸਕਦੀ। "
            "ਕਿਰਪਾ ਕਰਕੇ ਬਾਅਦ ਵਿੱਚ ਦੁਬਾਰਾ ਫ਼ੋਨ ਕਰੋ। ਧੰਨਵਾਦ!"
        ),
        recorded_apology="ਮਾਫ਼ ਕਰਨਾ, ਸਾਨੂੰ ਤਕਨੀਕੀ ਸਮੱਸਿਆ ਆ ਰਹੀ ਹੈ।",
    ),
    "or": Phrases(
        answer_in="Odia, written in Odia script",
        hello="ନମସ୍କାର",
        hello_named="ନମସ୍କାର {name}",
        inbound_greeting="{hello}! Acme Store କୁ ଆପଣଙ୍କୁ ସ୍ୱାଗତ। ମୁଁ ଆପଣଙ୍କୁ କିପରି ସାହାଯ୍ୟ କରିପାରିବି?",
        outbound_greeting="{hello}! ମୁଁ Acme Store ରୁ କହୁଛି{about}। ଏବେ କଥା ହେବାକୁ ଆପଣଙ୍କ ପାଖରେ ସମୟ ଅଛି କି?",
        about=", {purpose} ବିଷୟରେ",
        voicemail="{hello}! ମୁଁ Acme Store ରୁ କହୁଛି{about}। ସମୟ ମିଳିଲେ ଦୟାକରି ଆମକୁ ଫେରି ଫୋନ କରନ୍ତୁ। ଧନ୍ୟବାଦ!",
        check_in="ଆପଣ ଏବେ ବି ଲାଇନରେ ଅଛନ୍ତି କି?",
        silence_goodbye="ମୁଁ ଆପଣଙ୍କ କଥା ଶୁଣିପାରୁନାହିଁ, ତେଣୁ କଲ୍ ଶେଷ କରୁଛି। ଦୟାକରି ପୁଣି ଫୋନ କରନ୍ତୁ। ଧନ୍ୟବାଦ!",
        goodbye="ଫୋନ କରିଥିବାରୁ ଧନ୍ୟବାଦ। ନମସ୍କାର!",
        transfer="ଦୟାକରି ଲାଇନରେ ରୁହନ୍ତୁ, ମୁଁ ଆପଣଙ୍କୁ ଆମର ଜଣେ ସହକର୍ମୀଙ୍କ ସହ ଯୋଡୁଛି।",
        transfer_to="ଦୟାକରି ଲାଇନରେ ରୁହନ୍ତୁ, ମୁଁ ଆପଣଙ୍କୁ ଆମର {department} ଦଳ ସହ ଯୋଡୁଛି।",
        time_up="ଏହି କଲର ସମୟ ଶେଷ ହୋଇଗଲା। ଫୋନ କରିଥିବାରୁ ଧନ୍ୟବାଦ, ନମସ୍କାର!",
        apology="କ୍ଷମା କରିବେ, କିଛି ଅସୁବିଧା ହେଲା। ଆପଣ ପୁଣି ଥରେ କହିପାରିବେ କି?",
        trouble_goodbye=(
            "କ୍ଷମା କରିବେ, ବୈଷୟିକ ଅସୁବିଧା ଯୋଗୁଁ ମୁଁ ଏବେ ସାହାଯ୍ୟ କରିପାରୁନାହିଁ। ଦୟାକରି ପରେ ପୁଣି ଫୋନ କରନ୍ତୁ। ଧନ୍ୟବାଦ!"
        ),
        recorded_apology="କ୍ଷମା କରିବେ, ଆମର ବୈଷୟିକ ଅସୁବିଧା ହେଉଛି।",
    ),
}
